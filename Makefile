# The two commands of the README. Each one sets up what it needs first.
.PHONY: demo test
demo:
	@bash scripts/setup.sh
	@.venv/bin/twin demo
test:
	@bash scripts/test.sh
