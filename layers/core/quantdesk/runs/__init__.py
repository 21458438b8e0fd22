"""Scenario runs: models, the DynamoDB repository, the service the API calls, the projector's
event logic and stream tokens."""
