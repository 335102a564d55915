// The PostGIS store (SPEC §7) is being written on branch h-pg.
import Store
