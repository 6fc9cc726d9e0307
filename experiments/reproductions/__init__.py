"""Paper reproductions run by `ganjax reproduce NAME`: one recipe file each (see
`ganjax.reproduce.recipe` for what a file states)."""
