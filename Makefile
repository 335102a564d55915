# LandMap: `make run` serves the sample data, `make test` runs every test.
SWIFT ?= swift
DB ?= landmap.gpkg
HOST ?= 127.0.0.1
PORT ?= 8080
LANDMAP = .build/release/landmap

.PHONY: setup build release run test clean

setup:
	@bash Tools/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# Serves http://$(HOST):$(PORT)/; an empty database is first filled with the sample in GeoData/.
run: release
	$(LANDMAP) serve --db $(DB) --host $(HOST) --port $(PORT)

# Every test, over both backends: Tools/postgres starts a throwaway PostgreSQL + PostGIS on a
# Unix socket for the run (LANDMAP_TEST_PG) and removes it afterwards.
test: setup
	bash Tools/postgres run $(SWIFT) test

clean:
	rm -rf .build
