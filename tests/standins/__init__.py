"""Stand-ins: GitHub (a remote service) and the report directory CI hands the publisher."""
