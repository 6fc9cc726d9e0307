"""The GAN playground: `ganjax playground` serves one page that trains toy GANs live.

Training runs in the server on ganjax's own engine (the config builds the GAN, `ganjax.run`'s
Session advances it with the compiled, scanned step); the page only draws what the server
streams and sends settings back. One job per module:

* `settings`   the config keys the page may set, their types and ranges, the starting setup,
               and the check that a config is one the playground can train (toy MLP GANs);
* `data`       drawn points as a toy source, and the view (plot bounds) of a source;
* `messages`   parsing and validating the page's messages (size, JSON, type, fields);
* `snapshot`   the compiled program that renders a state (samples, D on a grid, the warped noise
               grid, G's gradient arrows) and the host-side metrics of a frame;
* `session`    one panel: a GAN built from a config, stepped, with hyperparameters changed in
               place and divergence caught;
* `export`     the `ganjax train` command and the experiment file of a setup;
* `tab`        one browser tab's panels (two in Compare), playing state and message handling;
* `server`     the Starlette app: the page, a WebSocket per tab, limits, idle cleanup.

`settings` and `messages` import no JAX; the CLI imports the server only when it runs.
"""
