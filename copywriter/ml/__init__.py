"""Heavy ML: LM loading, LoRA adapters, batched generation, embeddings.

Imports no Django. The web process never imports this package's submodules (they pull torch);
workers and management commands do, lazily.
"""
