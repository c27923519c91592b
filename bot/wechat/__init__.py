"""The WeChat Official Account (公众号) channel: its callback, binding, API and sender."""
