package lru

import (
	"sync"
	"testing"
)

func TestEvictsLeastRecentlyUsedBeyondTheBound(t *testing.T) {
	c := New[string, []byte](10, func(v []byte) int64 { return int64(len(v)) })
	c.Put("a", make([]byte, 4))
	c.Put("b", make([]byte, 4))
	if _, ok := c.Get("a"); !ok { // a is now the most recently used
		t.Fatal("a not kept")
	}
	c.Put("c", make([]byte, 4)) // 12 bytes: b goes
	if _, ok := c.Get("b"); ok {
		t.Fatal("b kept beyond the bound")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("%s evicted, want b evicted", k)
		}
	}
	if n, used := c.Stats(); n != 2 || used != 8 {
		t.Fatalf("stats %d entries %d bytes, want 2 and 8", n, used)
	}
	c.Put("a", make([]byte, 6)) // replaced: its cost counts once
	if n, used := c.Stats(); n != 2 || used != 10 {
		t.Fatalf("after replacing a: %d entries %d bytes, want 2 and 10", n, used)
	}
	c.Put("huge", make([]byte, 11)) // larger than the bound: not kept, nothing evicted
	if _, ok := c.Get("huge"); ok {
		t.Fatal("a value larger than the bound was kept")
	}
	if n, _ := c.Stats(); n != 2 {
		t.Fatalf("%d entries after an oversized put, want 2", n)
	}
	if keys := c.Keys(); len(keys) != 2 || keys[0] != "a" || keys[1] != "c" {
		t.Fatalf("keys %v, want [a c] (most recent first)", keys)
	}
	c.Clear()
	if n, used := c.Stats(); n != 0 || used != 0 {
		t.Fatalf("after Clear: %d entries %d bytes", n, used)
	}
}

func TestConcurrentUseKeepsTheBound(t *testing.T) {
	c := New[int, int](100, func(int) int64 { return 3 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				c.Put(g*10000+i%50, i)
				c.Get(g*10000 + (i+7)%50)
			}
		})
	}
	wg.Wait()
	if n, used := c.Stats(); used > 100 || int64(n)*3 != used {
		t.Fatalf("%d entries, %d bytes: want at most 100 bytes, 3 each", n, used)
	}
}
