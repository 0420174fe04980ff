"""The bundled pretrained checkpoint (``molvae_selfies_moses.pt``), loaded by ``molvae.load_model()``."""
