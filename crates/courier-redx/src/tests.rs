//! The RedX client against the stand-in.
