"""labelproof.metrics: evaluation, agreement and consensus as a pure library.

No server, no database, no project: everything here runs on annotations made anywhere.
"""
