"""Repositories: typed async methods over one session; callers never write SQL."""
