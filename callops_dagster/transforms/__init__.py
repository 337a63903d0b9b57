"""Pure pandas transforms of the data contract. Nothing in this package imports dagster."""
