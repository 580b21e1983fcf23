"""Installers for the host plug-ins (GIMP 3, Krita 5): ``pixcut hosts install HOST``."""
