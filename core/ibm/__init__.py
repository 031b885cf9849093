"""IBM Quantum: the connection (account or local test mode), the job cache, submitting a circuit once, a test-set evaluation.

docs/ibm.md explains the whole path and what differs with a real account.
"""
