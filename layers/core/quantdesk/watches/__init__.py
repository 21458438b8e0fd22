"""Watches: a scenario re-run on each new data snapshot or on a schedule, its result diffed
against the previous one, changes delivered as alerts (inbox, webhook, email)."""
