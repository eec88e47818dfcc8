// Package lru is a least-recently-used cache bounded by the total cost of
// its values (bytes, as the caller counts them), safe for concurrent use:
// the tile cache, the tiles' zone polygons and the checker's zone outlines.
//
// Written here rather than taken from a library: golang-lru bounds the
// number of entries, not their bytes; ristretto admits and drops entries
// by sampled frequency, asynchronously, so a Put may not be kept; a cache
// whose contents a caller can steer must stay exact and deterministic (the
// checker keeps one per clearance and its tests count what is kept).
package lru

import (
	"container/list"
	"sync"
)

// Cache is a least-recently-used cache bounded by the total size of its
// values (size reports a value's cost, in bytes). It is safe for concurrent
// use. A value larger than the whole bound is not kept.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	limit int64
	used  int64
	size  func(V) int64
	order *list.List // front: most recently used; elements hold *entry
	items map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key  K
	val  V
	cost int64
}

// New returns an empty cache holding at most limit bytes of values.
func New[K comparable, V any](limit int64, size func(V) int64) *Cache[K, V] {
	return &Cache[K, V]{limit: limit, size: size, order: list.New(), items: map[K]*list.Element{}}
}

// Get returns the value stored under k, and marks it recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Put stores v under k, evicting the least recently used values beyond
// the bound.
func (c *Cache[K, V]) Put(k K, v V) {
	cost := c.size(v)
	if cost > c.limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		e := el.Value.(*entry[K, V])
		c.used += cost - e.cost
		e.val, e.cost = v, cost
		c.order.MoveToFront(el)
	} else {
		c.items[k] = c.order.PushFront(&entry[K, V]{key: k, val: v, cost: cost})
		c.used += cost
	}
	c.evictOverLimit()
}

// evictOverLimit drops the least recently used entries while the cache is
// over its bound. c.mu must be held.
func (c *Cache[K, V]) evictOverLimit() {
	for c.used > c.limit {
		el := c.order.Back()
		e := el.Value.(*entry[K, V])
		c.order.Remove(el)
		delete(c.items, e.key)
		c.used -= e.cost
	}
}

// Clear drops every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order.Init()
	c.items = map[K]*list.Element{}
	c.used = 0
}

// Stats returns the number of entries and their total cost.
func (c *Cache[K, V]) Stats() (n int, used int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.used
}

// Keys returns the keys held, most recently used first.
func (c *Cache[K, V]) Keys() []K {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]K, 0, len(c.items))
	for el := c.order.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*entry[K, V]).key)
	}
	return out
}
