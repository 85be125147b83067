"""Scripts that measure and train newsrag on the shared data sets (not imported by the packages)."""
