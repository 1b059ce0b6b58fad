"""Make this checkout importable as ``ansible_collections.omero_docker.stack``.

Unit and integration tests import plugins the way Ansible does, by their collection path. The tree
``<tmp>/ansible_collections/omero_docker/stack`` is a symlink to the checkout; it is
put first on ``sys.path``. ``ansible_collections`` is a namespace package, so the
collections installed with the ``ansible`` package stay importable beside it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
_TREE = Path(tempfile.mkdtemp(prefix="omero-stack-tests-"))
(_TREE / "ansible_collections" / "omero_docker").mkdir(parents=True)
(_TREE / "ansible_collections" / "omero_docker" / "stack").symlink_to(REPO_ROOT)
sys.path.insert(0, str(_TREE))
# tests.helpers: tests/helpers/playbook.py (the one way tests run ansible-playbook), sites.py and
# bad_sites.yml (site model test data), fake_omero.py and omero_test_helpers.py (omero_* modules).
if str(REPO_ROOT) not in sys.path:
    sys.path.append(str(REPO_ROOT))
