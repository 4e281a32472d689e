// The LOD octree of a Morton-sorted cloud (twin/export/tiles.py writes it as 3D Tiles), built
// level by level like Potree: a node with at most `budget` points keeps them all (a leaf); a larger
// node keeps one random point per occupied cell of a grid 2^sampling_depth cells across it, at most
// `budget` of them (a random subset), and passes the rest to its children. Every node's points are
// one contiguous run of the sorted codes, so each level is one pass over the points not yet placed.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "morton.hpp"

namespace twin {

struct OctreeNodes {
  std::vector<int32_t> level;
  std::vector<uint64_t> key;       // the node's Morton prefix (top 3 * level bits of its codes)
  std::vector<int64_t> offset;     // node i's points are indices[offset[i] .. offset[i + 1])
  std::vector<int64_t> indices;    // positions in the sorted codes, ascending within a node
  std::vector<int64_t> occupied;   // occupied sampling cells of an inner node; 0 for a leaf
  int64_t dropped = 0;             // points beyond the budget of a deepest node (coincident)
};

namespace detail {
// splitmix64: a small, good hash; random choices depend only on (seed, level, key, counter).
inline uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace detail

// Nodes in breadth-first order (every parent before its children).
inline OctreeNodes build_octree(const uint64_t* codes, size_t n, size_t budget, int sampling_depth, uint64_t seed) {
  OctreeNodes out;
  out.offset.push_back(0);
  std::vector<int64_t> active(n), next;
  for (size_t i = 0; i < n; ++i) active[i] = static_cast<int64_t>(i);
  std::vector<int64_t> picks;
  std::vector<char> taken;
  for (int level = 0; level <= kMortonLevels && !active.empty(); ++level) {
    const int shift = 3 * (kMortonLevels - level);
    const int cell_shift = 3 * (kMortonLevels - std::min(level + sampling_depth, kMortonLevels));
    next.clear();
    size_t begin = 0;
    while (begin < active.size()) {
      const uint64_t key = codes[active[begin]] >> shift;
      size_t end = begin + 1;
      while (end < active.size() && (codes[active[end]] >> shift) == key) ++end;
      const size_t count = end - begin;
      uint64_t state = detail::mix(seed ^ detail::mix((static_cast<uint64_t>(level) << 58) ^ key));
      out.level.push_back(level);
      out.key.push_back(key);
      if (count <= budget || level == kMortonLevels) {
        const size_t kept = std::min(count, budget);
        out.indices.insert(out.indices.end(), active.begin() + begin, active.begin() + begin + kept);
        out.occupied.push_back(0);
        out.dropped += static_cast<int64_t>(count - kept);
      } else {
        picks.clear();  // positions in `active`, one per occupied cell, ascending
        for (size_t cell = begin; cell < end;) {
          const uint64_t cell_key = codes[active[cell]] >> cell_shift;
          size_t cell_end = cell + 1;
          while (cell_end < end && (codes[active[cell_end]] >> cell_shift) == cell_key) ++cell_end;
          state = detail::mix(state);
          picks.push_back(static_cast<int64_t>(cell + state % (cell_end - cell)));
          cell = cell_end;
        }
        out.occupied.push_back(static_cast<int64_t>(picks.size()));
        if (picks.size() > budget) {  // a random subset of `budget` picks (partial Fisher-Yates), kept in order
          for (size_t i = 0; i < budget; ++i) {
            state = detail::mix(state);
            std::swap(picks[i], picks[i + state % (picks.size() - i)]);
          }
          picks.resize(budget);
          std::sort(picks.begin(), picks.end());
        }
        taken.assign(count, 0);
        for (int64_t p : picks) {
          out.indices.push_back(active[p]);
          taken[p - begin] = 1;
        }
        for (size_t i = begin; i < end; ++i)
          if (!taken[i - begin]) next.push_back(active[i]);
      }
      out.offset.push_back(static_cast<int64_t>(out.indices.size()));
      begin = end;
    }
    active.swap(next);
  }
  return out;
}

}  // namespace twin
