"""OMERO.server stand-in: a Python Ice service that answers omero-py clients.

Modules: rules (server rules, no Ice, no database), store (PostgreSQL state),
scriptrepo (lib/scripts and its registrations), commands (omero.cmd requests), servants
(Ice servants), server (main), dbinit (the database step's schema creation).
"""
