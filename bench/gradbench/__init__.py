"""tapeflow as a GradBench tool: one module per eval, each written as a tapeflow user would write
it (plain Python and numpy) and differentiated only by tapeflow. tool.py speaks the protocol."""
