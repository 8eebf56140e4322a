"""Pure ``nn.Module`` networks (no training logic): import the submodules directly."""
