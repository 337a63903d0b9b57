"""Contact compliance and weekly performance (shared/spec/contact-compliance.md)."""
