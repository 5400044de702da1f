"""Accounts: who may manage which, the record of every change to one, and the log-in and account forms."""
