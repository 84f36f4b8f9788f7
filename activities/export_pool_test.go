package activities

// Gathering is how many acquire requests for pool id wait for a signal.
func Gathering(p *Pools, id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, b := range p.filling[id] {
		n += len(b.reqs)
	}
	return n
}
