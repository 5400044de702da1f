"""Log-in and session protections: lock-out, the security log, session limits and the two-factor pages."""
