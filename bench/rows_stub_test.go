package bench

import "context"

func (r *runner) durability(context.Context) error { return nil }
func (r *runner) scale(context.Context) error      { return nil }
func (r *runner) polling(context.Context) error    { return nil }
