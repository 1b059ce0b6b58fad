"""Make this checkout importable as ``ansible_collections.omero_docker.stack`` (as tests/unit does)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
_TREE = Path(tempfile.mkdtemp(prefix="omero-stack-integration-"))
(_TREE / "ansible_collections" / "omero_docker").mkdir(parents=True)
(_TREE / "ansible_collections" / "omero_docker" / "stack").symlink_to(REPO_ROOT)
sys.path.insert(0, str(_TREE))
