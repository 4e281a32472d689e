"""Scale-out: many `twin serve` processes behind one twin, on Redis (fan-out, leaders) and PostgreSQL (store).

Room: implements twin.serve's interfaces (`Fanout`, `Store`) and keeps a process's hub in step
with the others; may import twin.serve and twin.live; only twin.cli imports it (docs/deploy.md).
"""
