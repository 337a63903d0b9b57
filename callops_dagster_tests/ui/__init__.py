"""The UI as people drive it: a real `dg dev`, its GraphQL API and headless Chromium."""
