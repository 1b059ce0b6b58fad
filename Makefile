# Shortcuts for the two commands of the README (which need no make):
#   make site   = tools/site.sh   run playbooks/site.yml against inventories/local
#   make test   = tools/test.sh   run the whole test suite (lint, sanity, unit, molecule)
# Both create their own cached virtualenvs (under ~/.cache/omero_docker_stack).
SHELL := /bin/bash
.DEFAULT_GOAL := help
INVENTORY ?= inventories/local
ANSIBLE_ARGS ?=

.PHONY: help site test lint sanity unit molecule images

help:
	@sed -n '1,4p' Makefile

site:
	tools/site.sh -i $(INVENTORY) $(ANSIBLE_ARGS)

test:
	tools/test.sh

lint sanity unit molecule:
	OMERO_STACK_STAGES=$@ tools/test.sh

images:
	tools/docker-engine.sh ensure && tests/images/build.sh
