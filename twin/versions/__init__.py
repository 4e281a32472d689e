"""Scan versions of one scan folder: each new scan registered to the first, stored and exported as
its own tiles, and the document's anchors carried over to where the room's machines went.

Room: floor 4; imports changes, export, scanfolder and document; only the CLI imports it.

    from twin import versions
    added = versions.add_version("scans/shop", "shop-2026.ply", source="shop-2026.ply")
    added.version            # Version(id="v2", date, source, T_first_version, tiles, changes, change_tiles)
    added.proposal.patch     # JSON Patch moving machines and room anchors with the motions found
    added.proposal.notes     # what moved, what follows it, what lies where the room lost surface
    versions.read_proposal("scans/shop", "v2")   # the open proposal; `twin versions accept` applies it
"""
from twin.versions.adding import AddedVersion, add_version
from twin.versions.carry_over import Proposal, propose_carry_over
from twin.versions.proposals import ACCEPTED_FILE, PROPOSAL_FILE, mark_accepted, read_proposal

__all__ = ["ACCEPTED_FILE", "PROPOSAL_FILE", "AddedVersion", "Proposal", "add_version", "mark_accepted",
           "propose_carry_over", "read_proposal"]
