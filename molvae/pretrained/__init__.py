"""The shipped pretrained checkpoints, loaded by name with ``molvae.load_model(name)``: ``bundled``
(``molvae_smiles_moses.pt``, the default), ``selfies`` (``molvae_selfies_moses.pt``), ``property-head``
(``molvae_selfies_moses_property_head.pt``) and ``graph`` (``molvae_graph_moses.pt``)."""
