"""pixcut's own plug-ins, registered by ``pixcut.plugins`` exactly like third-party ones.

The shape follows simonw/llm's ``default_plugins/``: behaviour a third party could
replace lives in a plug-in module rather than in the core, so the core only defines the
hooks (``hookspecs``), the types and the lookups. The built-in backends keep their
``pixcut_register_backends`` implementations beside the backend classes
(``pixcut.backends.local``, ``pixcut.backends.pixian``) and are registered the same way.
"""
