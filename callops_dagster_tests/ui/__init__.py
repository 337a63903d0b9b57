"""The UI as people drive it: a real `dagster dev`, its GraphQL API and headless Chromium."""
