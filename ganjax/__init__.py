"""ganjax: GAN research in JAX. A config builds pure functions; one compiled step trains."""

__version__ = "0.1.0"
