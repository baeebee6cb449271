"""Field operations: crew check-in and out, patrol lifecycle, live positions and safety alerts."""
