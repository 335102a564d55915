# LandMap: `make run` serves/loads the sample data, `make test` runs every test.
SWIFT ?= swift
DB ?= landmap.gpkg
LANDMAP = .build/release/landmap

.PHONY: setup build release run test clean

setup:
	@bash Tools/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

run: release
	@bash Tools/run-sample.sh $(LANDMAP) $(DB)

test: setup
	$(SWIFT) test

clean:
	rm -rf .build
