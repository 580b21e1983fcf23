"""pixcut on a Ray cluster (or a local Ray started on demand): ``pip install 'pixcut[ray]'``.

``remove_backgrounds`` runs a whole batch as a Ray Data job with the plain batch's
semantics: every result comes from ``pixcut.api.remove_background``, outputs are
written atomically, and a manifest makes a rerun skip what is done. Importing this
package does not import Ray; calling it without Ray installed is a clear
``OptionsError``.
"""

from __future__ import annotations

from pixcut.ray.pipeline import RayRun, remove_backgrounds

__all__ = ["RayRun", "remove_backgrounds"]
