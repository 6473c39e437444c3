"""Gallery categories as data: the managed list that posts and rules name."""
