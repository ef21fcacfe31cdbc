"""What tests share: peers, configurations, stores and runners. A test module imports from
here, never from another test module."""
