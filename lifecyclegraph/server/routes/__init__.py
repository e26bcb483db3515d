"""The HTTP routes of the service, each calling one library function."""
