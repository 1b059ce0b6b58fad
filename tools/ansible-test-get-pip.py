"""Stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test creates a virtualenv per sanity test and bootstraps pip into it with a
get-pip script fetched from a host that is not reachable here. This stand-in does
the same job with the standard library's ensurepip and then installs the pip
version ansible-test asked for from the package index. tools/sanity.sh places it
where ansible-test looks for its cached copy.
"""

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")

args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"],
                      stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])
