"""Qt item models over the core's rows. No widgets here; edits leave as signals (the view asks the session)."""
