"""The offline backend: an OpenAI-compatible API answered in process, with no network and no key.

``api.handle`` turns an HTTP request (method, path, JSON body) into an OpenAI-shaped
response; ``transport`` plugs it into the openai SDK's HTTP client; ``server`` exposes
it on 127.0.0.1; ``model`` is the small deterministic algorithm that writes the answers.
"""
