# The reference presence panel's entry point (MicroPython runs main.py at boot).
import panel_board

panel_board.run(panel_board.PanelBoard(panel_board.load_config()))
