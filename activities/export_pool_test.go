package activities

// Gathering is how many acquire requests for pool id (any priority) wait
// for a signal.
func Gathering(p *Pools, id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, q := range p.filling {
		if k.pool != id {
			continue
		}
		for _, b := range q {
			n += len(b.reqs)
		}
	}
	return n
}
