"""Delivery: the outbox, the worker that drains it, rate gates and the senders."""
