"""What the dashboard's server needs beyond the library: the background retrain worker and the maintainer's access."""
