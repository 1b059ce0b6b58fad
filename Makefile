# Two commands do all set-up on a fresh Debian 12 machine (as root):
#   make site   run playbooks/site.yml against inventories/local (this host)
#   make test   run the whole test suite (lint, sanity, unit, molecule)
# Both create their own cached virtualenvs (under ~/.cache/omero_docker_stack).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PLAYBOOK ?= playbooks/site.yml
INVENTORY ?= inventories/local
ANSIBLE_ARGS ?=

.PHONY: help site test lint sanity unit molecule images

help:
	@sed -n '1,4p' Makefile

site:
	@venv="$$(tools/venv.sh run)" && \
	  ANSIBLE_COLLECTIONS_PATH="$$venv/collections" \
	  "$$venv/bin/ansible-playbook" -i $(INVENTORY) $(PLAYBOOK) $(ANSIBLE_ARGS)

test:
	tools/test.sh

lint sanity unit molecule:
	OMERO_STACK_STAGES=$@ tools/test.sh

images:
	tools/docker-engine.sh ensure && tests/images/build.sh
