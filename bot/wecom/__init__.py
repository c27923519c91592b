"""WeCom: the callback edge (crypto, inbound translation, aiohttp handlers) and the push APIs."""
