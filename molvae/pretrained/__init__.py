"""The shipped pretrained checkpoints, loaded by name with ``molvae.load_model(name)``: ``bundled``
(``molvae_selfies_moses.pt``, the default) and ``property-head`` (``molvae_selfies_moses_property_head.pt``)."""
