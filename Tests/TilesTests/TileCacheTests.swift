import Testing
@testable import Tiles

@Suite struct TileCacheTests {
    @Test func boundedByBytesLeastRecentlyUsedOut() {
        let cache = TileCache<[UInt8]>(capacityBytes: 4_000)
        for i in 0..<4 { cache.put("t\(i)", [UInt8](repeating: UInt8(i), count: 900)) }
        #expect(cache.statistics.bytes == 3_600)
        #expect(cache.get("t0") != nil)  // t0 is now the most recently used; t1 the least
        cache.put("t4", [UInt8](repeating: 4, count: 900))  // 4 500 > 4 000: evict the oldest quarter
        #expect(cache.get("t1") == nil)
        #expect(cache.get("t0") == [UInt8](repeating: 0, count: 900))
        #expect(cache.get("t4") != nil)
        #expect(cache.statistics.bytes <= 4_000)
        // Replacing a key does not count its bytes twice.
        cache.put("t4", [1, 2, 3])
        #expect(cache.get("t4") == [1, 2, 3])
        // An entry larger than a quarter of the cache is not kept at all.
        cache.put("huge", [UInt8](repeating: 9, count: 1_500))
        #expect(cache.get("huge") == nil)
        let s = cache.statistics
        #expect(s.hits == 4 && s.misses == 2)  // t0, t0, t4, t4 hit; t1 and huge miss
    }
}
